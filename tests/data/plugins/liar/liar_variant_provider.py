"""A provider whose supported values are not among its own valid values."""


class LiarPlugin:
    namespace = "liar_hw"

    @staticmethod
    def get_all_configs():
        return [{"name": "level", "values": ["2", "1"], "multi_value": False}]

    @staticmethod
    def get_supported_configs():
        return [{"name": "level", "values": ["3", "1"], "multi_value": False}]
