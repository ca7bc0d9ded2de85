"""A provider that never answers."""

import time


class SleepyPlugin:
    namespace = "sleepy_hw"

    @staticmethod
    def get_all_configs():
        return []

    @staticmethod
    def get_supported_configs():
        while True:
            time.sleep(3600)
