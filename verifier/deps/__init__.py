"""What the apps need and whether the policies let it through: declared (`declared`, the deps.yaml format), observed
(`hubble`), inferred from env values (`inference`), the Services a client dials (`endpoints`), gathered and
evaluated in `dependencies`.

Imports the model, the sets and the engine.
"""
