SCHEDULES = {"cosine": 1, "linear": 2, "constant": 3}
