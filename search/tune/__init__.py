"""What basin builds for Ray Tune to run: the tuner, the searcher, schedulers (ASHA, freezing), the
stopper, callbacks and the local or remote cluster."""
