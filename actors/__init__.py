"""actorflow.actors: Ray actors hosting executors, parameter servers, queues and replay.

Every class here is a plain Python class that works in-process without Ray;
`actorflow.actors._remote.as_actor` is the one place that makes one an actor. Importing this
package does not import Ray.
"""
from .allreduce import AllReduceReplica, Ring, RingAborted, RingTimeout
from .cluster import Cluster
from .data import ShardedBatches
from .executor import GraphExecutor
from .feeder import FileShards, InputContext, Prefetched, ProducerFailed, QueueFeed
from .parameter_server import ParameterServer
from .queue import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueActor, QueueCancelled,
                    QueueClosed, QueueEmpty, QueueFull, RandomShuffleQueue)
from .replay import ReplayBuffer, ShardedReplay
from .replica_worker import ReplicaWorker
from .trainer import ReplicatedTrainer

__all__ = ["AllReduceReplica", "Ring", "RingAborted", "RingTimeout",
           "Cluster", "ShardedBatches", "FileShards", "InputContext", "QueueFeed",
           "Prefetched", "ProducerFailed", "GraphExecutor", "ParameterServer", "FIFOQueue",
           "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueActor",
           "QueueEmpty", "QueueFull", "QueueClosed", "QueueCancelled",
           "ReplayBuffer", "ShardedReplay", "ReplicaWorker", "ReplicatedTrainer"]
