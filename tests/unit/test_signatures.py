import subprocess
import sys

from headline_dedup.signatures import SignatureParams, Signer, from_bytes, jaccard, to_bytes

CODE = ("from headline_dedup.signatures import Signer, SignatureParams, to_bytes;"
        "import sys; s = Signer(SignatureParams()).sign([('crash', 'iran', 'boeing', 'missil')])[0];"
        "sys.stdout.write(to_bytes(s).hex())")


def test_signatures_are_identical_across_processes():
    outs = {subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    local = to_bytes(Signer(SignatureParams()).sign([("crash", "iran", "boeing", "missil")])[0]).hex()
    assert outs == {local}


def test_roundtrip_and_similarity_order():
    signer = Signer(SignatureParams())
    a, b, c = signer.sign([("crash", "iran", "boeing", "missil"), ("crash", "iran", "boeing", "video"),
                           ("retrait", "reform", "greve", "sncf")])
    assert jaccard(from_bytes(to_bytes(a)), a) == 1.0
    assert jaccard(a, b) > jaccard(a, c)


def test_fingerprint_names_every_parameter():
    fp = SignatureParams(num_perm=64, seed=3, lsh_threshold=0.3).fingerprint
    assert "perm=64" in fp and "seed=3" in fp and "b=" in fp and fp.startswith("n")
    assert SignatureParams().fingerprint != SignatureParams(num_perm=64).fingerprint
