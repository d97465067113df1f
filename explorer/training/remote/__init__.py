"""Training in worker processes: hosts that each train many runs, and the web server's proxies for them."""
