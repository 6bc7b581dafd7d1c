import public_checks
public_checks.run(initialize_parameters, forward, backward);
