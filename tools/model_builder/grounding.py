"""The package's grounding convention: config.json["endoscribe"]["grounding"], read by the browser
runtime (web/assistant/grounding.js) to parse boxes in answers and to ask about a drawn region.
transformers.js and Hugging Face transformers ignore the extra config key."""
import json
import os

from . import BuildError

# Values as web/assistant/grounding.js and the core's box parser (src/assistant/box_parse.h) take them.
KEYS = {
    "box_format": ("auto", "normalized_1", "normalized_1000", "pixels", "paligemma_loc"),
    "box_order": ("xyxy", "yxyx"),
    "region_input": ("coordinates", "crop", "both"),
}
# What the runtime assumes for a key that is not written (documented in PACKAGE.md).
RUNTIME_DEFAULTS = {"box_format": "auto", "box_order": "xyxy", "region_input": "coordinates"}


def validate(block, where):
    """Checks a grounding block; returns it as a new dict with the keys in KEYS order."""
    if not isinstance(block, dict):
        raise BuildError(f"{where}: the grounding convention must be a JSON object, got {type(block).__name__}")
    unknown = sorted(set(block) - set(KEYS))
    if unknown:
        raise BuildError(f"{where}: unknown grounding key(s) {', '.join(unknown)} (known: {', '.join(KEYS)})")
    for k, v in block.items():
        if v not in KEYS[k]:
            raise BuildError(f"{where}: grounding {k} {json.dumps(v)} is not one of {', '.join(KEYS[k])}")
    return {k: block[k] for k in KEYS if k in block}


def parse_spec(spec):
    """--grounding: a JSON object inline ('{"box_format": ...}') or the path of a JSON file holding one."""
    if spec.lstrip()[:1] in ("{", "["):
        where = "--grounding"
        try:
            block = json.loads(spec)
        except ValueError as e:
            raise BuildError(f"--grounding: malformed JSON ({e})")
    else:
        where = spec
        if not os.path.isfile(spec):
            raise BuildError(f"--grounding: no such file {spec} (give a JSON file or an inline JSON object)")
        try:
            with open(spec, encoding="utf-8") as f:
                block = json.load(f)
        except ValueError as e:
            raise BuildError(f"{spec}: malformed JSON ({e})")
    return validate(block, where)


def resolve(raw_config, options):
    """The block to write: the checkpoint's own (if any) with `options` (already validated) laid over it.
    Returns None when neither says anything, so the runtime's defaults apply."""
    es = raw_config.get("endoscribe")
    if es is not None and not isinstance(es, dict):
        raise BuildError("config.json: \"endoscribe\" must be a JSON object")
    block = dict(validate(es["grounding"], "config.json endoscribe.grounding")) if es and "grounding" in es else {}
    block.update(options or {})
    return validate(block, "grounding") or None
