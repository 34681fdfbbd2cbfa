"""Cases for the candidate samplers: properties of seeded samples (frequencies against the
class probabilities, distinctness, and TF's expected-count formulas)."""
import numpy as np

import actorflow as tf

from . import OpCase

TRUE = np.array([[0, 3], [9, 1]], dtype=np.int64)
R = 10


def _log_uniform_p(k):
    k = np.asarray(k, np.float64)
    return np.log((k + 2) / (k + 1)) / np.log(R + 1)


def _uniform_p(k):
    return np.full(np.shape(k), 1.0 / R)


def _with_replacement(prob, n):
    def check(outs, inputs):
        sampled, true_count, sampled_count = (np.asarray(o) for o in outs)
        assert sampled.dtype == np.int64 and sampled.shape == (n,)
        assert true_count.dtype == np.float32 and true_count.shape == TRUE.shape
        assert sampled.min() >= 0 and sampled.max() < R
        freq = np.bincount(sampled, minlength=R) / n
        np.testing.assert_allclose(freq, prob(np.arange(R)), atol=0.01)
        np.testing.assert_allclose(true_count, prob(TRUE) * n, rtol=1e-6)
        np.testing.assert_allclose(sampled_count, prob(sampled) * n, rtol=1e-6)
    return check


def _unique(prob, n):
    def check(outs, inputs):
        sampled, true_count, sampled_count = (np.asarray(o, np.float64) for o in outs)
        assert len(set(sampled.tolist())) == n and sampled.max() < R
        # expected count = 1 - (1 - p)^tries with one number of tries (>= n) for every class
        tries = np.log1p(-sampled_count) / np.log1p(-prob(sampled))
        assert tries.min() >= n - 1e-3 and np.ptp(tries) < 1e-2 * tries.max()
        np.testing.assert_allclose(true_count, -np.expm1(tries[0] * np.log1p(-prob(TRUE))),
                                   rtol=1e-4)
    return check


def _sampler(fn, n, unique, seed):
    return lambda t: fn(t, num_true=2, num_sampled=n, unique=unique, range_max=R, seed=seed)


CASES = [
    OpCase("LogUniformCandidateSampler", _sampler(tf.nn.log_uniform_candidate_sampler, 40000,
                                                  False, 1), [TRUE],
           check=_with_replacement(_log_uniform_p, 40000), grad=False, name="replace"),
    OpCase("LogUniformCandidateSampler", _sampler(tf.nn.log_uniform_candidate_sampler, 6,
                                                  True, 2), [TRUE],
           check=_unique(_log_uniform_p, 6), grad=False, name="unique"),
    OpCase("UniformCandidateSampler", _sampler(tf.nn.uniform_candidate_sampler, 40000, False,
                                               3), [TRUE],
           check=_with_replacement(_uniform_p, 40000), grad=False, name="replace"),
    OpCase("UniformCandidateSampler", _sampler(tf.nn.uniform_candidate_sampler, R, True, 4),
           [TRUE], check=_unique(_uniform_p, R), grad=False, name="unique_all"),
]
