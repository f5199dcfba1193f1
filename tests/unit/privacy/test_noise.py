"""``fedcarbon.privacy.noise`` keeps serving every name its callers import."""

from fedcarbon.privacy import accuracy, calibration, noise, sampling

# The public names of noise.py before it was split into sampling, calibration and accuracy.
HOMES = {
    sampling: ["default_rng", "sample_discrete_laplace", "sample_poisson", "sample_polya"],
    calibration: [
        "MAX_SHARE_SCALE",
        "Bounded",
        "BudgetSplit",
        "Mechanism",
        "Neighbouring",
        "NoiseSpec",
        "calibrate",
        "calibrate_vector",
        "per_metric_epsilon",
        "sample_noise_share",
        "sample_spec_share",
        "sum_sensitivity",
    ],
    accuracy: [
        "ResidualNoise",
        "confidence_half_width",
        "expected_absolute_error",
        "mean_confidence_half_width",
        "noise_magnitude_bound",
        "noise_variance",
        "residual_noise",
    ],
}


def test_noise_reexports_each_public_name_from_its_home_module() -> None:
    expected = {name: getattr(home, name) for home, names in HOMES.items() for name in names}
    assert {name: getattr(noise, name) for name in noise.__all__} == expected
