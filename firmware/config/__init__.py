"""The box's configuration: site and board files read and checked, and the box assembled from them."""
