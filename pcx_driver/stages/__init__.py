"""The default stages: plugins on the same contract as any third-party plugin."""
