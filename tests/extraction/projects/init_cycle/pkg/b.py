import pkg

EPS = 1e-6
MOMENTUM = 0.9
