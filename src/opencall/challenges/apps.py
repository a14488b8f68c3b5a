from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "opencall.challenges"
    label = "challenges"

    def ready(self) -> None:
        from opencall.challenges.phases import LABELS
        from opencall.core.templatetags.opencall import use_phase_labels

        use_phase_labels(LABELS)
