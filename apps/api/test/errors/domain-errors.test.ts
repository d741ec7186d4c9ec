// Every error code comes from the one typed list: the compiler refuses any other, and the list has no duplicates.
import { expect } from 'chai';
import { ALL_ERROR_CODES, ERROR_CODES } from '../../src/errors/error-codes';
import { BadRequest, Conflict, Forbidden, Unauthorized } from '../../src/errors/domain-errors';

describe('the error catalogue', () => {
  it('lists each code once, in SCREAMING_SNAKE_CASE', () => {
    expect(new Set(ALL_ERROR_CODES).size).to.equal(ALL_ERROR_CODES.length);
    for (const code of ALL_ERROR_CODES) expect(code).to.match(/^[A-Z][A-Z0-9_]*$/);
  });

  it("keeps Birthday Buddy's 400 codes with BadRequest", () => {
    expect(ERROR_CODES.BadRequest).to.include.members([
      'REGISTER_USER_ALREADY_EXISTS',
      'LOGIN_BAD_CREDENTIALS',
      'RESET_PASSWORD_BAD_TOKEN',
      'UPDATE_USER_EMAIL_ALREADY_EXISTS',
      'WORKSPACE_ALREADY_EXISTS',
    ]);
  });

  it('accepts only the codes listed for a class (checked by the compiler)', () => {
    // @ts-expect-error: a code that is not in the list
    expect(new BadRequest('SOMETHING_NEW').code).to.equal('SOMETHING_NEW');
    // @ts-expect-error: a 403 code is not a 400 code
    expect(new BadRequest('NO_WORKSPACE').code).to.equal('NO_WORKSPACE');
    // @ts-expect-error: a Conflict code is not a Forbidden code
    expect(new Forbidden('x', 'LAST_OWNER').code).to.equal('LAST_OWNER');
    expect(new Unauthorized('Invalid refresh token', 'REFRESH_TOKEN_INVALID').code).to.equal('REFRESH_TOKEN_INVALID');
    expect(new Conflict().code).to.equal('CONFLICT');
  });
});
