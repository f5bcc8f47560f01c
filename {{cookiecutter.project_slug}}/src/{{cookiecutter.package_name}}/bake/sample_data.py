"""A deterministic synthetic churn dataset, in numbered batches.

Standard library only, so the cookiecutter hook can write it before any dependency is installed.
Batch N always holds the same rows; the holdout set is fixed. Each batch adds training data from
the same distribution, so pushing more batches improves the model.

    python -m <package>.bake.sample_data --batch 2      # writes data/raw/batch_002.csv
"""

import csv
import math
import random
import sys
from pathlib import Path

from ..cli import UserError, command, parser

BATCH_ROWS = 1000
HOLDOUT_ROWS = 2000
HOLDOUT_SEED = 7
TARGET = "churned"
CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENTS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
REGIONS = ("north", "south", "east", "west", "central")
COLUMNS = ("customer_age", "tenure_months", "monthly_charges", "support_calls", "satisfaction",
           "contract", "payment_method", "region", "has_partner", TARGET)


def _maybe_missing(rng, value, rate):
    return "" if rng.random() < rate else value


def generate_rows(n_rows, seed):
    """Yield rows as dicts; about 5-10 % of some columns are missing."""
    rng = random.Random(seed)
    for _ in range(n_rows):
        contract = rng.choices(CONTRACTS, weights=(55, 25, 20))[0]
        payment = rng.choice(PAYMENTS)
        tenure = rng.randint(1, 72)
        charges = min(150.0, max(18.0, rng.gauss(70, 25)))
        calls = min(10, int(rng.expovariate(0.7)))
        satisfaction = min(5.0, max(1.0, rng.gauss(3.4, 1.0)))
        # The signal: short contracts, high charges, many support calls and low satisfaction churn,
        # with an interaction that trees find and a linear model only partly.
        logit = (-1.3 + 1.1 * (contract == "month-to-month") - 0.9 * (contract == "two-year")
                 - 0.03 * tenure + 0.015 * (charges - 70) + 0.3 * calls
                 + 0.5 * (payment == "electronic-check") - 0.6 * (satisfaction - 3.4)
                 + 0.9 * (contract == "month-to-month" and charges > 90))
        churned = int(rng.random() < 1 / (1 + math.exp(-logit)))
        yield {
            "customer_age": _maybe_missing(rng, rng.randint(18, 85), 0.08),
            "tenure_months": tenure,
            "monthly_charges": round(charges, 2),
            "support_calls": calls,
            "satisfaction": _maybe_missing(rng, round(satisfaction, 1), 0.10),
            "contract": contract,
            "payment_method": payment,
            "region": _maybe_missing(rng, rng.choice(REGIONS), 0.05),
            "has_partner": rng.choice(("yes", "no")),
            TARGET: churned,
        }


def write_csv(path, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def write_batch(raw_dir, batch, rows=BATCH_ROWS):
    if batch < 1:
        raise ValueError(f"batch numbers start at 1, got {batch}")
    return write_csv(Path(raw_dir) / f"batch_{batch:03d}.csv", generate_rows(rows, seed=1000 + batch))


def write_holdout(holdout_dir, rows=HOLDOUT_ROWS):
    return write_csv(Path(holdout_dir) / "holdout.csv", generate_rows(rows, seed=HOLDOUT_SEED))


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--batch", type=int, default=1, help="batch number to write (default 1)")
    arguments.add_argument("--raw-dir", default="data/raw")
    arguments.add_argument("--holdout-dir", default="data/holdout")
    arguments.add_argument("--holdout", action="store_true", help="also write the fixed holdout set")
    args = arguments.parse_args(argv)
    if args.batch < 1:
        raise UserError(f"--batch must be 1 or more, got {args.batch}")
    print(f"wrote {write_batch(args.raw_dir, args.batch)}")
    if args.holdout:
        print(f"wrote {write_holdout(args.holdout_dir)}")


if __name__ == "__main__":
    sys.exit(main())
