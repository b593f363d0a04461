"""Batch classification of new articles: the engine, its local and Ray executors, the ONNX runtime, output
tables with their crash-safe parts, and the run summary."""
