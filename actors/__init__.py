"""actorflow.actors: Ray actors hosting executors, parameter servers, queues and replay."""
