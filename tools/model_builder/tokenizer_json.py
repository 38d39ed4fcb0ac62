"""tokenizer.model (SentencePiece BPE with byte fallback, Gemma style) -> tokenizer.json in the
Hugging Face `tokenizers` format, built the way transformers' GemmaConverter does, so
transformers.js (which reads only tokenizer.json) tokenizes like SentencePiece."""
import json

from . import BuildError

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
ALWAYS_SPECIAL = {"<start_of_turn>", "<end_of_turn>"}


def _model_proto_class():
    """The few fields of sentencepiece_model.proto this converter reads, declared at run time with the
    protobuf runtime that python3-onnx already depends on (no sentencepiece module needed).
    Enums are read as int32, which is the same varint on the wire."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="es_sentencepiece_subset.proto", package="es_spm", syntax="proto2")
    m = fdp.message_type.add(name="ModelProto")
    sp = m.nested_type.add(name="SentencePiece")
    sp.field.add(name="piece", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    sp.field.add(name="score", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    sp.field.add(name="type", number=3, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL, default_value="1")
    ts = m.nested_type.add(name="TrainerSpec")
    ts.field.add(name="model_type", number=3, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL, default_value="1")
    ts.field.add(name="unk_piece", number=45, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, default_value="<unk>")
    m.field.add(name="pieces", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                type_name=".es_spm.ModelProto.SentencePiece")
    m.field.add(name="trainer_spec", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                type_name=".es_spm.ModelProto.TrainerSpec")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("es_spm.ModelProto")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def load_proto(path):
    m = _model_proto_class()()
    try:
        with open(path, "rb") as f:
            m.ParseFromString(f.read())
    except OSError as e:
        raise BuildError(f"{path}: cannot read ({e})")
    except Exception as e:  # protobuf raises DecodeError; a truncated file is the usual cause
        raise BuildError(f"{path}: not a SentencePiece model ({e})")
    if not m.pieces or any(not p.piece for p in m.pieces[:3]):
        raise BuildError(f"{path}: not a SentencePiece model (no pieces)")
    return m


def generate_merges(vocab, scores):
    """BPE merges from vocabulary + scores: every split of a piece into two known pieces, ordered by the
    piece's score (highest first), then by the parts' lengths (transformers' generate_merges)."""
    merges = []
    for piece, score in scores:
        local = []
        for i in range(1, len(piece)):
            l, r = piece[:i], piece[i:]
            if l in vocab and r in vocab:
                local.append((l, r, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda v: (v[2], len(v[0]), len(v[1])), reverse=True)
    return [[l, r] for l, r, _ in merges]


def build(path, special):
    """special: dict with bos/eos/pad/unk piece strings from tokenizer_config.json."""
    m = load_proto(path)
    if m.trainer_spec.model_type != 2:
        raise BuildError(f"{path}: SentencePiece model type {m.trainer_spec.model_type} is not BPE (Gemma uses BPE)")
    pieces = [(p.piece, p.score, p.type) for p in m.pieces]
    vocab_scores = []
    for i, (piece, score, _) in enumerate(pieces):
        vocab_scores.append(("\t" if piece == "<0x09>" else piece, score if i >= 3 else 0.0))
    vocab = {}
    for i, (piece, _) in enumerate(vocab_scores):
        vocab.setdefault(piece, i)
    merge_vocab = dict(vocab)
    if "<0x09>" in {p for p, _, _ in pieces}:
        merge_vocab["<0x09>"] = vocab["\t"]
    merges = generate_merges(merge_vocab, sorted(vocab_scores, key=lambda x: x[1], reverse=True))
    added = []
    for i, (piece, _, typ) in enumerate(pieces):
        if typ in (CONTROL, USER_DEFINED, UNKNOWN):
            added.append({"id": i, "content": piece, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": typ in (CONTROL, UNKNOWN) or piece in ALWAYS_SPECIAL})
    unk = m.trainer_spec.unk_piece or "<unk>"
    bos = special.get("bos_token", "<bos>")
    if bos not in vocab:
        raise BuildError(f"{path}: bos token {bos!r} from tokenizer_config.json is not in the vocabulary")
    add_bos = special.get("add_bos_token", True)
    single = ([{"SpecialToken": {"id": bos, "type_id": 0}}] if add_bos else []) + [{"Sequence": {"id": "A", "type_id": 0}}]
    pair = single + ([{"SpecialToken": {"id": bos, "type_id": 1}}] if add_bos else []) + [{"Sequence": {"id": "B", "type_id": 1}}]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
        "post_processor": {"type": "TemplateProcessing", "single": single, "pair": pair,
                           "special_tokens": {bos: {"id": bos, "ids": [vocab[bos]], "tokens": [bos]}} if add_bos else {}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }, len(pieces)


def write(path, out_path, special):
    tok, n = build(path, special)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
    return n
