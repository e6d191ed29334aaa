"""A trial as Ray Tune runs it: the trainable function, the errors it tells apart, its candidate
store and its log."""
