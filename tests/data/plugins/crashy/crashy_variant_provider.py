"""A provider that fails while detecting."""


class CrashyPlugin:
    namespace = "crashy_hw"

    @staticmethod
    def get_all_configs():
        return [{"name": "level", "values": ["1"], "multi_value": False}]

    @staticmethod
    def get_supported_configs():
        raise RuntimeError("no device handle")
