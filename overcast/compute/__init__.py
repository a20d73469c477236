"""The compute service (Nova's twin): API, conductor, compute agents and virt drivers."""
