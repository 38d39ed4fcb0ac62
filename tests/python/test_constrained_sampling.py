"""Constrained decoding (src/constrained) checked by an independent validator.

build/native/tools/constrained_sample draws thousands of outputs for the tool
schemas in tests/fixtures/constrained/tool_schemas.json from the random tiny
model (its tied embeddings as a bigram model) at temperature 1.7, one seed per
output; every output must end on the stop token, parse with Python's json and
validate with Debian's python3-jsonschema (Draft 2020-12).
"""
import json
import os
import subprocess
import tempfile
import unittest

try:
    import jsonschema
except ImportError:  # pragma: no cover
    jsonschema = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build", "native", "tools", "constrained_sample")
TINY = os.path.join(ROOT, "tests", "fixtures", "tiny-gemma3")
SCHEMAS = os.path.join(ROOT, "tests", "fixtures", "constrained", "tool_schemas.json")
PER_SCHEMA = 300


@unittest.skipIf(jsonschema is None, "python3-jsonschema is not installed (scripts/setup.sh installs it)")
@unittest.skipIf(not os.path.exists(TOOL), "build/native/tools/constrained_sample is not built")
class ConstrainedSamplingTest(unittest.TestCase):
    def test_every_sampled_tool_call_validates(self):
        with open(SCHEMAS, encoding="utf-8") as f:
            schemas = json.load(f)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "samples.jsonl")
            run = subprocess.run(
                [TOOL, "sample", os.path.join(TINY, "tokenizer.model"),
                 os.path.join(TINY, "checkpoint", "model.safetensors"), SCHEMAS, str(PER_SCHEMA), out,
                 "--temperature", "1.7", "--max-new-tokens", "160", "--seed", "1000"],
                capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stderr)
            print("constrained_sample:", run.stdout.strip())
            with open(out, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f]
        self.assertEqual(len(rows), PER_SCHEMA * len(schemas))
        validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}
        for name in schemas:
            jsonschema.Draft202012Validator.check_schema(schemas[name])
        distinct = {name: set() for name in schemas}
        for row in rows:
            where = f"{row['schema']} seed {row['seed']}: {row['text']!r}"
            self.assertEqual(row["reason"], "stop", where + " " + row.get("error", ""))
            value = json.loads(row["text"])
            errors = list(validators[row["schema"]].iter_errors(value))
            self.assertEqual(errors, [], where)
            distinct[row["schema"]].add(row["text"])
        # The outputs are varied (high temperature), not one canned answer.
        for name, texts in distinct.items():
            self.assertGreater(len(texts), PER_SCHEMA // 2, name)

    def test_validator_rejects_what_the_schemas_forbid(self):
        # The independent check can fail: hand-made invalid calls are caught.
        with open(SCHEMAS, encoding="utf-8") as f:
            schemas = json.load(f)
        bad = {
            "classify": {"label": "tumour", "confidence": 0.5},
            "ground": {"text": ""},
            "segment": {"points": []},
            "finish": {"answer": "x", "extra": 1},
            "tool_call": {"tool": "classify", "arguments": {"points": []}},
        }
        for name, value in bad.items():
            self.assertFalse(jsonschema.Draft202012Validator(schemas[name]).is_valid(value), name)


if __name__ == "__main__":
    unittest.main()
