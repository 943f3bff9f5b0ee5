"""Input pipelines of a runner that reads image files (``--images DIR --input native``): each framework's own way,
all following one recipe (``workloads.images.decode.ImageRecipe``), in the step order the arrays would have."""
