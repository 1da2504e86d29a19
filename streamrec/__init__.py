"""StreamRec: session-based next-item recommendation with an attentive LSTM."""

__version__ = "0.1.0"
