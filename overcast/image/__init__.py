"""The image service: Glance v2 images, members, tasks and metadata definitions."""
