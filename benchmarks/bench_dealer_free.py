"""What dealer-free campaign keys cost, against the one-key baseline they replace, in one run.

Run: ``.venv/bin/python benchmarks/bench_dealer_free.py [--bits 2048] [--trustees 3]
[--threshold 2] [--metrics 5] [--runs 5]``.

Baseline: one Paillier key for the whole campaign with full-length randomness and the
full-length proof of ``knowledge.py`` (what a dealt threshold key gave agents: one packed
vector, one proof per ciphertext). Dealer-free (docs/threshold.md): each of n trustees makes
its own key; an agent Shamir-shares every slot and its non-zero flag, and encrypts n blocks of
2 x packing.ciphertexts with short exponents and short-exponent proofs (issue 14), which the
coordinator checks in one batch per trustee key. Rows: key generation per trustee, an agent's
encrypt-and-prove, the coordinator's proof check per submission, a trustee's opening of its
block, checking one opening, and rebuilding the totals from t openings. Medians of ``--runs``,
with P = one raw gmpy2 powmod(r, n, n^2) measured in the same run so figures compare across
noisy machines.
"""

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import date

import gmpy2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from phe import paillier

from fedcarbon import shares
from fedcarbon.campaign import CampaignKey, CampaignKind, MetricSpec, new_campaign
from fedcarbon.crypto import vector
from fedcarbon.crypto.knowledge import encrypt_with_proofs, verify_vector
from fedcarbon.crypto.opening import Opening, open_ciphertext, verify_opening
from fedcarbon.decryption import combine_shares
from fedcarbon.trustee_keys import sign_statement


def _median(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--trustees", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=2)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    names = [f"m{i}" for i in range(args.metrics)]
    metrics = tuple(MetricSpec(n, "kg", 3, 0, 10**12) for n in names)
    pairs = [paillier.generate_paillier_keypair(n_length=args.bits) for _ in range(args.trustees)]
    statements = tuple(
        sign_statement(Ed25519PrivateKey.generate(), "bench", f"t{i}", private)
        for i, (_, private) in enumerate(pairs)
    )
    campaign = new_campaign(
        campaign_id="bench",
        kind=CampaignKind.BENCHMARK,
        title="bench",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=metrics,
        key=CampaignKey(statements, args.threshold),
    )
    n0 = pairs[0][0].n
    r = secrets.randbelow(n0)
    nsq = gmpy2.mpz(n0) ** 2
    p_unit = _median(max(args.runs, 20), lambda: gmpy2.powmod(r, n0, nsq))

    fixed = [secrets.randbelow(10**12) for _ in names]
    baseline_plain = [secrets.randbelow(n0) for _ in range(campaign.packing.ciphertexts)]
    base_moduli = [n0] * len(baseline_plain)

    def agent_dealer_free() -> tuple[list[int], list[bytes]]:
        plaintexts = shares.share_vector(
            campaign, shares.offset_values(campaign, fixed), shares.indicators(fixed)
        )
        return shares.encrypt(campaign, plaintexts, b"ctx")

    cts, proofs = agent_dealer_free()
    blobs = vector.to_bytes(cts, campaign.moduli)
    base_cts, base_proofs = encrypt_with_proofs(base_moduli, baseline_plain, b"ctx")
    private = pairs[0][1]
    block = [cts[p] for p in campaign.block_range(0, "values")]
    openings = {
        t: [
            open_ciphertext(pairs[i][1], cts[p]).to_bytes(campaign.key.moduli[i])
            for p in campaign.block_range(i, "values")
        ]
        for i, t in enumerate(campaign.key.trustee_ids[: args.threshold])
    }
    one = Opening.from_bytes(openings["t0"][0], n0)

    rows = [
        ("P: one powmod(r, n, n^2)", p_unit),
        (
            "key generation, baseline: one phe key",
            _median(args.runs, lambda: paillier.generate_paillier_keypair(n_length=args.bits)),
        ),
        (
            "key generation, dealer-free: per trustee (in parallel)",
            _median(args.runs, lambda: paillier.generate_paillier_keypair(n_length=args.bits)),
        ),
        (
            "agent encrypt + prove, baseline (one key)",
            _median(args.runs, lambda: encrypt_with_proofs(base_moduli, baseline_plain, b"ctx")),
        ),
        (
            "agent share + encrypt + prove (short exponents), dealer-free",
            _median(args.runs, agent_dealer_free),
        ),
        (
            "coordinator proof check, baseline",
            _median(args.runs, lambda: verify_vector(base_moduli, base_cts, base_proofs, b"ctx")),
        ),
        (
            "coordinator proof check (one batch per key), dealer-free",
            _median(args.runs, lambda: shares.unproven(campaign, [(blobs, proofs, b"ctx")])),
        ),
        (
            "trustee opens its value block",
            _median(args.runs, lambda: [open_ciphertext(private, c) for c in block]),
        ),
        ("check one opening", _median(args.runs, lambda: verify_opening(n0, cts[0], one))),
        (
            "rebuild totals from t openings (checks each)",
            _median(args.runs, lambda: combine_shares(campaign, cts, openings, "values")),
        ),
    ]
    print(
        f"dealer-free keys: {args.bits}-bit, {args.threshold}-of-{args.trustees}, "
        f"{args.metrics} metrics, {len(campaign.moduli)} ciphertexts per submission "
        f"(baseline {len(base_moduli)}), medians of {args.runs}"
    )
    print(f"{'operation':58} {'median':>12} {'/ P':>9}")
    for name, seconds in rows:
        print(f"{name:58} {seconds * 1000:10.2f} ms {seconds / p_unit:9.1f}")


if __name__ == "__main__":
    main()
