//! Data generators: `law` (curves from known coefficients plus noise, to test that fits recover
//! the truth), `sim` (a small synthetic RLHF world in which overoptimization emerges), and
//! `tokens` (a token-level world whose RL follows the paper's RL law).

pub mod law;
pub mod sim;
pub mod tokens;
