"""The vetting benchmark of issue 5: corpora, the GuardDog peer and the harness."""
