import b

BASE = 10


def scaled():
    return b.FACTOR * BASE
