"""Labeled text and the schema it follows: segmenting articles, reading inputs, validating, counting and
comparing annotations."""
