"""The parts of the fidelity report (`evaluation.fidelity_report` runs them, in this order):

- `clips`: reading and embedding the real and the generated folder;
- `manifest`: which source clip each generated clip claims;
- `identity`: identity (retrieval, verification, similarity to the source) and distance histograms;
- `leakage`: for anonymized clips, identity as leakage and leakage by attacker;
- `reference`: naturalness, covariate fidelity and diversity, against like real clips;
- `pairing`: perceptual distance to the source, and the sample clips shown beside a real partner;
- `document`: the whole report as one typed object (`FidelityReport`);
- `text`: the headline numbers and how a number is written;
- `values`: what they share (JSON-ready values, condition types, the `Section` base).
"""
