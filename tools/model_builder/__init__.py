"""EndoScribe model builder: Hugging Face Gemma-3 / MedGemma checkpoints -> ONNX packages
in the transformers.js layout (see PACKAGE.md). Needs only python3-onnx and python3-numpy
(python3-sentencepiece's protobuf module for tokenizer.json)."""


class BuildError(Exception):
    """A problem with the input that the user must fix; the message names the file or tensor."""
