"""What a storage node keeps on its devices: object files, and container and account databases."""
