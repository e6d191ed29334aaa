"""Where a model comes from (built-in, local folder, GGUF), the LoRA adapters every task gets, and
the model checks a sweep file's settings get."""
