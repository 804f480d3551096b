//! Stalwart's password policy (`is_secure_password`): a length in bytes between the
//! limits, then a zxcvbn score of at least the minimum strength, with no user context.

use zxcvbn::Score;

use crate::config::Limits;

/// Checks a new password; the error is the text Stalwart puts in the SetError description.
pub fn check(password: &str, limits: &Limits) -> Result<(), String> {
    if password.len() > limits.password_max_length {
        Err(format!(
            "Password must be at most {} characters long.",
            limits.password_max_length
        ))
    } else if password.len() < limits.password_min_length {
        Err(format!(
            "Password must be at least {} characters long.",
            limits.password_min_length
        ))
    } else if limits.password_min_strength > 0 {
        let entropy = zxcvbn::zxcvbn(password, &[]);
        if u8::from(entropy.score()) >= limits.password_min_strength.min(u8::from(Score::Four)) {
            Ok(())
        } else if let Some(feedback) = entropy.feedback() {
            Err(format!("Password is too weak. {feedback}"))
        } else {
            Err("Password is too weak.".to_owned())
        }
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_policy_messages() {
        let limits = Limits::default();
        assert_eq!(
            check("Sh0rt!x", &limits),
            Err("Password must be at least 8 characters long.".to_owned())
        );
        assert_eq!(
            check("password1", &limits),
            Err(
                "Password is too weak. This is a very common password. Add another word or two. \
                 Uncommon words are better."
                    .to_owned()
            )
        );
        assert_eq!(
            check(&"x".repeat(129), &limits),
            Err("Password must be at most 128 characters long.".to_owned())
        );
        assert_eq!(check("correct-Horse-battery-staple-42", &limits), Ok(()));
    }

    #[test]
    fn strength_zero_disables_the_check() {
        let limits = Limits {
            password_min_strength: 0,
            ..Limits::default()
        };
        assert_eq!(check("password1", &limits), Ok(()));
    }
}
