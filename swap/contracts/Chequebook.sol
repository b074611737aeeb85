// SPDX-License-Identifier: MIT
// Minimal chequebook for wakunode's SWAP settlement proof of concept. The issuer funds the
// contract; each beneficiary cashes the latest cumulative cheque, which pays the difference
// since the last cashed amount, so only the latest cheque matters and older ones are worthless.
pragma solidity ^0.8.20;

contract Chequebook {
    /// The key that signs cheques drawn on this chequebook.
    address public immutable issuer;
    /// Wei paid per accounting unit (cheques count units).
    uint256 public immutable weiPerUnit;
    /// Cumulative units already paid out to each beneficiary.
    mapping(address => uint256) public paidOut;

    event ChequeCashed(address indexed beneficiary, uint256 cumulativeUnits, uint256 paymentWei);

    error NotIssuer(address signer);
    error NothingToCash(uint256 cumulativeUnits, uint256 alreadyPaid);
    error Bounced(uint256 paymentWei, uint256 balanceWei);
    error BadSignature();

    constructor(address issuer_, uint256 weiPerUnit_) payable {
        issuer = issuer_;
        weiPerUnit = weiPerUnit_;
    }

    receive() external payable {}

    /// What the issuer signs: EIP-191 hash of (chain id, this contract, beneficiary, units).
    function chequeDigest(address beneficiary, uint256 cumulativeUnits) public view returns (bytes32) {
        bytes32 inner = keccak256(abi.encodePacked(block.chainid, address(this), beneficiary, cumulativeUnits));
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", inner));
    }

    /// Pays beneficiary for the units of this cheque not paid before. Anyone may submit it.
    function cashCheque(address payable beneficiary, uint256 cumulativeUnits, bytes calldata sig) external returns (uint256 paymentWei) {
        if (sig.length != 65) revert BadSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        // Reject malleable (high-s) signatures, as go-ethereum does.
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) revert BadSignature();
        address signer = ecrecover(chequeDigest(beneficiary, cumulativeUnits), v, r, s);
        if (signer == address(0) || signer != issuer) revert NotIssuer(signer);
        uint256 already = paidOut[beneficiary];
        if (cumulativeUnits <= already) revert NothingToCash(cumulativeUnits, already);
        paymentWei = (cumulativeUnits - already) * weiPerUnit;
        if (address(this).balance < paymentWei) revert Bounced(paymentWei, address(this).balance);
        paidOut[beneficiary] = cumulativeUnits;
        emit ChequeCashed(beneficiary, cumulativeUnits, paymentWei);
        (bool ok, ) = beneficiary.call{value: paymentWei}("");
        require(ok, "transfer failed");
    }

    /// Lets the issuer take back unspent funds.
    function withdraw(uint256 amountWei) external {
        if (msg.sender != issuer) revert NotIssuer(msg.sender);
        (bool ok, ) = payable(msg.sender).call{value: amountWei}("");
        require(ok, "transfer failed");
    }
}
