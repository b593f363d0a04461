"""Models-from-code entry point: MLflow logs this file rather than pickling a Python object."""

import mlflow

from stance.pyfunc import StancePyfunc

mlflow.models.set_model(StancePyfunc())
