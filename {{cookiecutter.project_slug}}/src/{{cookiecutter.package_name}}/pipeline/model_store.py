"""Build, save and load models in safe formats: XGBoost's own UBJSON, skops for scikit-learn."""

from pathlib import Path

from ..cli import UserError
from .data_io import read_json, write_json

MODELS = ("xgboost", "random_forest", "logistic_regression")
# Types skops does not trust by default but that our own random forests contain; the files come
# from our own train stage, never from a third party.
TRUSTED_SKOPS_TYPES = ["sklearn.tree._tree.Tree"]


def build(kind, hyperparameters, seed):
    if kind == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(**hyperparameters, random_state=seed)
    if kind == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**hyperparameters, random_state=seed)
    if kind == "logistic_regression":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(**hyperparameters, random_state=seed))
    raise UserError(f"train.model {kind!r} is unknown: choose one of {', '.join(MODELS)} in params.yaml")


def save(model, kind, model_dir):
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    if kind == "xgboost":
        filename = "model.ubj"
        model.save_model(model_dir / filename)
    else:
        import skops.io

        filename = "model.skops"
        skops.io.dump(model, model_dir / filename)
    write_json(model_dir / "model.json", {"model": kind, "file": filename})


def load(model_dir):
    model_dir = Path(model_dir)
    meta_file = model_dir / "model.json"
    if not meta_file.exists():
        raise UserError(f"no model in {model_dir}: run the train stage first (make repro)")
    meta = read_json(meta_file)
    path = model_dir / meta["file"]
    if meta["model"] == "xgboost":
        from xgboost import XGBClassifier

        model = XGBClassifier()
        model.load_model(path)
        return model
    import skops.io

    return skops.io.load(path, trusted=TRUSTED_SKOPS_TYPES)
