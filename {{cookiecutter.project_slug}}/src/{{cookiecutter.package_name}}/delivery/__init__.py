"""What runs around the pipeline: accepting a model, the CI report and promotion, data pushes."""
