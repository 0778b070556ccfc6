//! Optimizers with PyTorch semantics, over the flat parameter vector.
//!
//!   sgd       w -= lr g
//!   momentum  v = mu v + g;  w -= lr v                  (torch.optim.SGD, dampening 0)
//!   adam      m = m + (1-b1)(g - m);  v = b2 v + (1-b2) g^2
//!             w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)   (torch.optim.Adam)
//!
//! State is allocated once per job; `step` allocates nothing.

use crate::spec::Optimizer as Kind;

#[derive(Debug, Clone)]
pub enum Optimizer {
    Sgd,
    Momentum { mu: f64, v: Vec<f64> },
    Adam { b1: f64, b2: f64, eps: f64, t: i32, m: Vec<f64>, v: Vec<f64> },
}

impl Optimizer {
    pub fn new(kind: Kind, n_params: usize) -> Optimizer {
        match kind {
            Kind::Sgd => Optimizer::Sgd,
            Kind::Momentum { momentum } => Optimizer::Momentum { mu: momentum, v: vec![0.0; n_params] },
            Kind::Adam { beta1, beta2, eps } => Optimizer::Adam {
                b1: beta1,
                b2: beta2,
                eps,
                t: 0,
                m: vec![0.0; n_params],
                v: vec![0.0; n_params],
            },
        }
    }

    /// One update of `params` from `grad`.
    #[inline(always)]
    pub fn step(&mut self, lr: f64, params: &mut [f64], grad: &[f64]) {
        match self {
            Optimizer::Sgd => {
                for (w, &g) in params.iter_mut().zip(grad) {
                    *w -= lr * g;
                }
            }
            Optimizer::Momentum { mu, v } => {
                // PyTorch starts the buffer at g; with v = 0 that is mu*0 + g.
                for ((w, &g), v) in params.iter_mut().zip(grad).zip(v.iter_mut()) {
                    *v = *mu * *v + g;
                    *w -= lr * *v;
                }
            }
            Optimizer::Adam { b1, b2, eps, t, m, v } => {
                *t += 1;
                let bc1 = 1.0 - b1.powf(f64::from(*t));
                let bc2_sqrt = (1.0 - b2.powf(f64::from(*t))).sqrt();
                let step = lr / bc1;
                for (((w, &g), m), v) in params.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *m += (1.0 - *b1) * (g - *m); // torch: exp_avg.lerp_(grad, 1 - beta1)
                    *v = *b2 * *v + (1.0 - *b2) * g * g;
                    *w -= step * (*m / (v.sqrt() / bc2_sqrt + *eps));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut w = vec![1.0, -2.0];
        Optimizer::new(Kind::Sgd, 2).step(0.5, &mut w, &[2.0, -4.0]);
        assert_eq!(w, vec![0.0, 0.0]);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let mut w = vec![0.0];
        let mut o = Optimizer::new(Kind::Momentum { momentum: 0.9 }, 1);
        o.step(1.0, &mut w, &[1.0]); // v = 1
        o.step(1.0, &mut w, &[1.0]); // v = 1.9
        assert!((w[0] + 2.9).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_moves_each_weight_by_lr() {
        // With bias correction, step 1 is lr * g/|g| (up to eps).
        let mut w = vec![0.0, 0.0];
        let mut o = Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 2);
        o.step(0.1, &mut w, &[3.0, -0.5]);
        assert!((w[0] + 0.1).abs() < 1e-8 && (w[1] - 0.1).abs() < 1e-8, "{w:?}");
    }
}
