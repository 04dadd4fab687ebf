// Two-factor sign-in on the account screen (filled in with enrolment).
export function TwoFactorSection() {
  return null;
}
