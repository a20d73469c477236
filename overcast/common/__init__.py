"""The core shared by every Overcast service. It never imports a service package."""
