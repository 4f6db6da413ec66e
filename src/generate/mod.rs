//! Data generators: `law` (curves from known coefficients plus noise, to test that fits recover
//! the truth), and `sim` (a small synthetic RLHF world in which overoptimization emerges).

pub mod law;
pub mod sim;
