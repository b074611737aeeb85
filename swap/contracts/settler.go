package contracts

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// Backend is the chain access Settler needs (an ethclient.Client, or the simulated backend's
// client in tests).
type Backend interface {
	bind.ContractBackend
	bind.DeployBackend
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	ChainID(ctx context.Context) (*big.Int, error)
}

// ErrBounced is returned when a chequebook cannot cover a cheque.
var ErrBounced = errors.New("cheque bounced: chequebook balance too low")

// Settler checks and cashes cheques drawn on Chequebook contracts. It implements swap.Chain.
type Settler struct {
	backend Backend
	chainID *big.Int
	auth    *bind.TransactOpts // pays the gas of cashing (any key; not necessarily the beneficiary)
	cb      *Chequebook
}

// NewSettler returns a settler submitting transactions with gasKey.
func NewSettler(ctx context.Context, b Backend, gasKey *ecdsa.PrivateKey) (*Settler, error) {
	id, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	return &Settler{backend: b, chainID: id, auth: bind.NewKeyedTransactor(gasKey, id), cb: NewChequebook()}, nil
}

// ChainID is the chain cheques are bound to.
func (s *Settler) ChainID() *big.Int { return new(big.Int).Set(s.chainID) }

// Deploy creates a chequebook for issuer paying weiPerUnit per unit, funded with funding wei
// from the settler's gas key. The caller waits for the transaction (bind.WaitDeployed).
func (s *Settler) Deploy(ctx context.Context, issuer common.Address, weiPerUnit, funding *big.Int) (common.Address, *types.Transaction, error) {
	opts := *s.auth
	opts.Context = ctx
	opts.Value = funding
	addr, tx, err := bind.DeployContract(&opts, common.FromHex(ChequebookMetaData.Bin), s.backend, s.cb.PackConstructor(issuer, weiPerUnit))
	if err != nil {
		return common.Address{}, nil, fmt.Errorf("deploy chequebook: %w", err)
	}
	return addr, tx, nil
}

// PaidOut returns the cumulative units chequebook has paid beneficiary.
func (s *Settler) PaidOut(ctx context.Context, chequebook, beneficiary common.Address) (uint64, error) {
	v, err := bind.Call(s.cb.Instance(s.backend, chequebook), &bind.CallOpts{Context: ctx}, s.cb.PackPaidOut(beneficiary), s.cb.UnpackPaidOut)
	if err != nil {
		return 0, fmt.Errorf("paidOut: %w", err)
	}
	return v.Uint64(), nil
}

// Solvent implements swap.Chain: can chequebook pay beneficiary the units of a cheque for
// cumulative units not yet cashed?
func (s *Settler) Solvent(ctx context.Context, chequebook, beneficiary common.Address, cumulative uint64) (bool, error) {
	inst := s.cb.Instance(s.backend, chequebook)
	paid, err := s.PaidOut(ctx, chequebook, beneficiary)
	if err != nil {
		return false, err
	}
	if cumulative <= paid {
		return false, nil
	}
	wpu, err := bind.Call(inst, &bind.CallOpts{Context: ctx}, s.cb.PackWeiPerUnit(), s.cb.UnpackWeiPerUnit)
	if err != nil {
		return false, fmt.Errorf("weiPerUnit: %w", err)
	}
	bal, err := s.backend.BalanceAt(ctx, chequebook, nil)
	if err != nil {
		return false, fmt.Errorf("chequebook balance: %w", err)
	}
	need := new(big.Int).Mul(new(big.Int).SetUint64(cumulative-paid), wpu)
	return bal.Cmp(need) >= 0, nil
}

// Cash submits beneficiary's latest cheque. It first simulates the call so a bounced cheque
// costs no gas and is reported as ErrBounced. The caller waits for the receipt.
func (s *Settler) Cash(ctx context.Context, chequebook, beneficiary common.Address, cumulative uint64, sig []byte) (*types.Transaction, error) {
	inst := s.cb.Instance(s.backend, chequebook)
	data := s.cb.PackCashCheque(beneficiary, new(big.Int).SetUint64(cumulative), sig)
	if _, err := bind.Call(inst, &bind.CallOpts{Context: ctx, From: s.auth.From}, data, s.cb.UnpackCashCheque); err != nil {
		return nil, s.revertReason(err)
	}
	opts := *s.auth
	opts.Context = ctx
	tx, err := bind.Transact(inst, &opts, data)
	if err != nil {
		return nil, fmt.Errorf("cash cheque: %w", s.revertReason(err))
	}
	return tx, nil
}

// revertReason turns a revert carrying one of the contract's errors into a Go error.
func (s *Settler) revertReason(err error) error {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return err
	}
	hexData, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	raw, derr := hexutil.Decode(hexData)
	if derr != nil {
		return err
	}
	decoded, uerr := s.cb.UnpackError(raw)
	if uerr != nil {
		return err
	}
	switch e := decoded.(type) {
	case *ChequebookBounced:
		return fmt.Errorf("%w (needs %s wei, holds %s)", ErrBounced, e.PaymentWei, e.BalanceWei)
	case *ChequebookNotIssuer:
		return fmt.Errorf("cheque not signed by the chequebook's issuer (signer %s)", e.Signer)
	case *ChequebookNothingToCash:
		return fmt.Errorf("nothing to cash: cheque for %s units, %s already paid", e.CumulativeUnits, e.AlreadyPaid)
	case *ChequebookBadSignature:
		return errors.New("malformed cheque signature")
	}
	return err
}
