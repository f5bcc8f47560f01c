"""Save a trained project's model as an MLflow pyfunc model, the way a user would hand it to
`mlflow models serve`. Runs in the MLflow environment (.venv-mlflow-server), not the project's.

The pyfunc model holds the project's package (code_paths) and its models/ folder (artifacts), and
its predict calls the project's own predict code: the same encoding and checks as `make serve`, so
the benchmark compares the servers, not two ways of scoring.

    python bench/mlflow_pyfunc.py PROJECT_DIR OUTPUT_DIR
"""

import sys
from pathlib import Path

import mlflow.pyfunc


class ProjectModel(mlflow.pyfunc.PythonModel):
    def __init__(self, package):
        self.package = package

    def load_context(self, context):
        import importlib

        store = importlib.import_module(f"{self.package}.pipeline.shared.model_store")
        self.predict_module = importlib.import_module(f"{self.package}.delivery.predict")
        self.model, self.encoding = store.load(context.artifacts["models"])

    def predict(self, context, model_input, params=None):
        return self.predict_module.predict(model_input, self.model, self.encoding, source="the request")


def main(project, output):
    project = Path(project).resolve()
    [package] = [path for path in (project / "src").iterdir() if (path / "__init__.py").exists()]
    mlflow.pyfunc.save_model(output, python_model=ProjectModel(package.name), code_paths=[str(package)],
                             artifacts={"models": str(project / "models")})
    print(f"saved {project / 'models'} as an MLflow pyfunc model in {output}")


if __name__ == "__main__":
    main(*sys.argv[1:])
