"""Every model family behind one small surface: fit, predict_proba, predict, save, load."""

from stance.models.base import StanceModel, load_model

__all__ = ["StanceModel", "load_model"]
