//! Data generators: `law` (curves from known coefficients plus noise, to test that fits recover
//! the truth).

pub mod law;
