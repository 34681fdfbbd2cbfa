"""`tf.contrib.tensorboard.plugins.projector`: tell TensorBoard's embedding projector which
tensors to show, with their metadata (labels) and sprite images.

    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = embedding_var.name
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(summary_writer, config)

writes ``projector_config.pbtxt`` (protobuf text format) into the writer's log directory,
where TensorBoard looks for it beside the checkpoints holding the embedding variables.
"""
from .config import EmbeddingInfo, ProjectorConfig, SpriteMetadata
from .visualize import PROJECTOR_FILENAME, visualize_embeddings

__all__ = ["EmbeddingInfo", "ProjectorConfig", "SpriteMetadata", "PROJECTOR_FILENAME",
           "visualize_embeddings"]
