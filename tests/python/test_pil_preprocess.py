"""The assistant's image preprocessing (C++ core, via build/native/tools/preprocess_image)
against what transformers' Gemma3ImageProcessor computes with PIL and numpy:
convert to RGB, pan-and-scan crops (when enabled), PIL resize, x * rescale_factor
in float64 stored as float32, (x - mean) / std in float32, channels first.

Every comparison is exact: the resized uint8 images byte for byte, pixel_values
bit for bit. The core decodes a PNG of the pixels PIL decoded, so only the
resize and the arithmetic are compared (JPEG decoders differ: stb_image vs
libjpeg; the difference is printed, not tested).

Real images: a dozen kvasir-seg / cvc-clinicdb images of different sizes from
ES_DATASETS or ../shared/datasets (skipped with a message when absent). Synthetic
non-square images always run.
"""
import glob
import itertools
import json
import math
import os
import subprocess
import tempfile
import unittest

import numpy as np

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    Image = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build", "native", "tools", "preprocess_image")


def datasets_dir():
    for d in (os.environ.get("ES_DATASETS"), os.path.join(ROOT, "..", "shared", "datasets")):
        if d and os.path.isdir(os.path.join(d, "kvasir-seg", "images")):
            return d
    return None


GEMMA3 = {"do_resize": True, "size": {"height": 896, "width": 896}, "resample": 2, "do_rescale": True,
          "rescale_factor": 0.00392156862745098, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5],
          "image_std": [0.5, 0.5, 0.5], "do_pan_and_scan": None, "pan_and_scan_min_crop_size": None,
          "pan_and_scan_max_num_crops": None, "pan_and_scan_min_ratio_to_activate": None,
          "image_processor_type": "Gemma3ImageProcessor"}


def config(**changes):
    c = json.loads(json.dumps(GEMMA3))
    for k, v in changes.items():
        c[k] = v
    return c


def pan_and_scan(image, min_crop, max_crops, min_ratio):
    """transformers' Gemma3ImageProcessor.pan_and_scan on an HWC array."""
    height, width = image.shape[:2]
    if width >= height:
        if width / height < min_ratio:
            return []
        num_w = int(math.floor(width / height + 0.5))
        num_w = min(int(math.floor(width / min_crop)), num_w)
        num_w = max(2, num_w)
        num_w = min(max_crops, num_w)
        num_h = 1
    else:
        if height / width < min_ratio:
            return []
        num_h = int(math.floor(height / width + 0.5))
        num_h = min(int(math.floor(height / min_crop)), num_h)
        num_h = max(2, num_h)
        num_h = min(max_crops, num_h)
        num_w = 1
    crop_w = int(math.ceil(width / num_w))
    crop_h = int(math.ceil(height / num_h))
    if min(crop_w, crop_h) < min_crop:
        return []
    pos_w = [crop_w * i for i in range(num_w)]
    pos_h = [crop_h * i for i in range(num_h)]
    return [image[ph:ph + crop_h, pw:pw + crop_w] for ph, pw in itertools.product(pos_h, pos_w)]


def reference(rgb, cfg):
    """(resized uint8 [N,H,W,3], pixel_values float32 [N,3,H,W]) as transformers computes them."""
    images = [rgb]
    if cfg.get("do_pan_and_scan"):
        images += pan_and_scan(rgb, cfg.get("pan_and_scan_min_crop_size") or 256,
                               cfg.get("pan_and_scan_max_num_crops") or 4,
                               cfg.get("pan_and_scan_min_ratio_to_activate") or 1.2)
    h, w = cfg["size"]["height"], cfg["size"]["width"]
    resized, values = [], []
    for im in images:
        r = np.array(Image.fromarray(im).resize((w, h), resample=cfg["resample"]))
        x = (r.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
        x = (x - np.array(cfg["image_mean"], dtype=np.float32)) / np.array(cfg["image_std"], dtype=np.float32)
        resized.append(r)
        values.append(x.transpose(2, 0, 1))
    return np.stack(resized), np.stack(values)


@unittest.skipUnless(Image is not None, "python3-pil not installed (scripts/setup.sh installs it)")
@unittest.skipUnless(os.path.exists(TOOL), "build/native/tools/preprocess_image not built (scripts/build.sh)")
class PilParity(unittest.TestCase):
    def run_core(self, png_path, cfg, tmp):
        cfg_path = os.path.join(tmp, "preprocessor_config.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        out = os.path.join(tmp, "out")
        subprocess.run([TOOL, cfg_path, png_path, out], check=True, capture_output=True, timeout=120)
        with open(os.path.join(out, "crops.json")) as f:
            crops = json.load(f)
        return np.load(os.path.join(out, "resized.npy")), np.load(os.path.join(out, "pixel_values.npy")), crops

    def check(self, rgb, cfg, label):
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "image.png")
            Image.fromarray(rgb).save(png)
            resized, values, crops = self.run_core(png, cfg, tmp)
        ref_resized, ref_values = reference(rgb, cfg)
        self.assertEqual(resized.shape, ref_resized.shape, label)
        bad = int(np.count_nonzero(resized != ref_resized))
        self.assertEqual(bad, 0, f"{label}: {bad} resized bytes differ from PIL "
                                 f"(max {np.abs(resized.astype(int) - ref_resized).max()})")
        self.assertEqual(values.dtype, np.float32)
        self.assertTrue(np.array_equal(values, ref_values),
                        f"{label}: pixel_values differ, max {np.abs(values - ref_values).max()}")
        return len(crops)

    def test_synthetic_non_square(self):
        rng = np.random.default_rng(7)
        # Noise plus edges: every filter tap matters, and clipping is exercised.
        for h, w in [(23, 37), (61, 19), (50, 50), (7, 300)]:
            rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            rgb[:, : w // 3] = 255
            rgb[: h // 4] = 0
            for resample in (0, 1, 2, 3, 4, 5):
                for size in (16, 45, 64):
                    cfg = config(size={"height": size, "width": size + 3}, resample=resample)
                    self.check(rgb, cfg, f"synthetic {w}x{h} -> {size + 3}x{size} resample {resample}")

    def test_synthetic_large_shrink_and_tiny_enlarge(self):
        rng = np.random.default_rng(5)
        big = rng.integers(0, 256, size=(1500, 2000, 3), dtype=np.uint8)  # a camera-sized frame
        self.check(big, config(), "synthetic 2000x1500 -> 896")
        self.check(big, config(resample=3), "synthetic 2000x1500 -> 896 bicubic")
        tiny = rng.integers(0, 256, size=(3, 5, 3), dtype=np.uint8)
        self.check(tiny, config(), "synthetic 5x3 -> 896")

    def test_synthetic_pan_and_scan(self):
        rng = np.random.default_rng(11)
        rgb = rng.integers(0, 256, size=(40, 130, 3), dtype=np.uint8)
        n = self.check(rgb, config(size={"height": 32, "width": 32}, do_pan_and_scan=True,
                                   pan_and_scan_min_crop_size=20, pan_and_scan_max_num_crops=4,
                                   pan_and_scan_min_ratio_to_activate=1.2), "synthetic pan-and-scan landscape")
        self.assertEqual(n, 3)  # round(130 / 40) = 3 crops of 44 px (the last one 42)
        n = self.check(rgb.transpose(1, 0, 2).copy(), config(size={"height": 32, "width": 32}, do_pan_and_scan=True,
                                                               pan_and_scan_min_crop_size=30,
                                                               pan_and_scan_max_num_crops=2),
                       "synthetic pan-and-scan portrait")
        self.assertEqual(n, 2)  # 3 would fit; at most 2 asked
        n = self.check(rgb.transpose(1, 0, 2).copy(), config(size={"height": 32, "width": 32}, do_pan_and_scan=True,
                                                               pan_and_scan_min_crop_size=50),
                       "synthetic pan-and-scan, crops too narrow")
        self.assertEqual(n, 0)  # 2 crops of 40x65: 40 < 50

    def test_real_endoscopy_images(self):
        d = datasets_dir()
        if not d:
            self.skipTest("shared datasets not found (set ES_DATASETS or put them in ../shared/datasets)")
        files = sorted(glob.glob(os.path.join(d, "kvasir-seg", "images", "*")))
        files += sorted(glob.glob(os.path.join(d, "cvc-clinicdb", "images", "*")))[:2]
        # A dozen images of different sizes, spread over the aspect ratios
        # present (the most portrait and the widest included).
        by_size = {}
        for f in files:
            with Image.open(f) as im:
                by_size.setdefault(im.size, f)
        kvasir = sorted((w / h, f) for (w, h), f in by_size.items() if "cvc-clinicdb" not in f)
        picks = sorted({round(i * (len(kvasir) - 1) / 10) for i in range(11)})
        chosen = [kvasir[i][1] for i in picks] + [f for f in files if "cvc-clinicdb" in f][:1]
        self.assertEqual(len(chosen), 12)
        crops_seen = 0
        jpeg_notes = []
        seen_sizes = []
        for f in chosen:
            with Image.open(f) as im:
                rgb = np.array(im.convert("RGB"))
            name = f"{os.path.basename(f)} ({rgb.shape[1]}x{rgb.shape[0]})"
            seen_sizes.append((rgb.shape[1], rgb.shape[0]))
            self.check(rgb, config(), name + " at 896")
            self.check(rgb, config(size={"height": 224, "width": 224}), name + " at 224")
            # Pan-and-scan with transformers' defaults, and with smaller crops so
            # these near-square photos are cut too.
            crops_seen += self.check(rgb, config(size={"height": 224, "width": 224}, do_pan_and_scan=True),
                                     name + " pan-and-scan defaults")
            crops_seen += self.check(rgb, config(size={"height": 224, "width": 224}, do_pan_and_scan=True,
                                                 pan_and_scan_min_crop_size=128,
                                                 pan_and_scan_min_ratio_to_activate=1.1), name + " pan-and-scan 128")
            if f.lower().endswith(".jpg"):
                with tempfile.TemporaryDirectory() as tmp:
                    resized, _, _ = self.run_core(f, config(), tmp)
                ref, _ = reference(rgb, config())
                diff = np.abs(resized.astype(int) - ref)
                jpeg_notes.append((diff.max(), float((diff > 0).mean())))
        self.assertGreater(crops_seen, 0, "no real image was cut by pan-and-scan")
        print(f"\n[info] {len(chosen)} real images, sizes {sorted(set(seen_sizes))}, "
              f"{crops_seen} pan-and-scan crops compared")
        if jpeg_notes:
            print(f"\n[info] JPEG decoded by the core (stb_image) instead of PIL (libjpeg), then resized to 896: "
                  f"max |diff| {max(m for m, _ in jpeg_notes)}, "
                  f"{100 * sum(p for _, p in jpeg_notes) / len(jpeg_notes):.1f}% of bytes differ on average "
                  f"over {len(jpeg_notes)} images")


if __name__ == "__main__":
    unittest.main()
