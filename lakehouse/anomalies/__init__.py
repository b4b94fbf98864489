"""The anomaly marts' Python side: the registry of anomaly types, the review loop and the alert e-mail."""
