"""A scikit-learn HistGradientBoostingClassifier as a Sluice training function (pipelines/flights-sklearn.yaml).

It boosts in chunks of rounds (warm start), scores the holdout Sluice gives it after each chunk, and stops when the
holdout log loss has not improved for `patience` chunks. After every chunk it saves the model so far as a
checkpoint: an attempt that resumes after a lost worker continues from there instead of starting over."""

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss


def train(data, params, context):
    rounds = int(params.get("max_iter", 300))
    chunk = int(params.get("chunk", 25))
    patience = int(params.get("patience", 2))
    saved = context.checkpoint()
    if saved is None:
        model = HistGradientBoostingClassifier(
            max_iter=chunk,
            learning_rate=float(params.get("learning_rate", 0.1)),
            max_leaf_nodes=int(params.get("max_leaf_nodes", 31)),
            min_samples_leaf=int(params.get("min_samples_leaf", 20)),
            early_stopping=False,  # the holdout below decides, not a split of the fit rows
            warm_start=True,
            random_state=int(params.get("seed", 7)),
        )
        losses = []
    else:
        model, losses = saved["model"], saved["losses"]
    while True:
        if len(losses) * chunk < model.max_iter:  # this chunk's rounds are not fitted yet (a resumed attempt's may be)
            model.fit(data.x, data.y)
            losses.append(log_loss(data.y_holdout, model.predict_proba(data.x_holdout)[:, 1], labels=[0, 1]))
            context.save_checkpoint({"model": model, "losses": losses}, done=model.max_iter)
        context.heartbeat(model.max_iter, rounds)
        stale = len(losses) - 1 - losses.index(min(losses))
        if stale >= patience or model.max_iter + chunk > rounds:
            return model
        model.max_iter += chunk
