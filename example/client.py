"""The seed's example client, unchanged in what it does: fill 1M events of "data", then of "drell-yan", then
flush to hist.coffea. Runs against the seed's haas package if installed, else histd's identical HaaSClient."""

import numpy as np

try:
    from haas.client import HaaSClient
except ImportError:
    from histd_client import HaaSClient


def main() -> None:
    with HaaSClient(address="[::]:50051") as client:
        for dataset in ["data", "drell-yan"]:
            n = 1_000_000
            result = client.fill(
                x=np.random.normal(size=n),
                y=np.random.normal(size=n),
                dataset=dataset,
                weight=np.ones(n),
            )
            print(f"Histogram remote_hist received: {result.message}\n")
        result = client.flush("hist.coffea")
        print(f"Histogram remote_hist received: {result.message}")


if __name__ == "__main__":
    main()
