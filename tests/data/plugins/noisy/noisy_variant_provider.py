"""A correct provider that writes garbage to stdout while it is imported."""

import os
import sys

print("hello from the plugin {not json")
sys.stdout.flush()
os.write(1, b"\x00\xffraw bytes on fd 1\n")


class NoisyPlugin:
    namespace = "noisy_hw"

    @staticmethod
    def get_all_configs():
        return [{"name": "level", "values": ["2", "1"], "multi_value": False}]

    @staticmethod
    def get_supported_configs():
        print("more garbage")
        return [{"name": "level", "values": ["1"], "multi_value": False}]
